"""Shared by every ``hvsnap`` command group: the command decorator, errors and output.

Every command takes ``--json`` and then prints CloudStack response objects (the API's field
names). A refused request prints ``{"errorcode": N, "errortext": "..."}`` and exits 3; a
usage error exits 2. Commands act as the admin unless ``--account NAME`` says otherwise.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps
from typing import Any

import click
from rich.console import Console
from rich.table import Table
from rich.tree import Tree

from harness.domain.errors import CloudError
from harness.domain.model import AsyncJob
from harness.drivers import HostError
from harness.service.cloud import Cloud, home_dir, open_cloud

EXIT_REFUSED = 3
console = Console(highlight=False, soft_wrap=True)
Obj = dict[str, Any]


class Refused(click.ClickException):
    """A CloudStack refusal: printed as ``{errorcode, errortext}``, exit status 3."""

    exit_code = EXIT_REFUSED

    def __init__(self, error: Obj) -> None:
        super().__init__(str(error.get("errortext")))
        self.error = error

    def show(self, file: Any = None) -> None:
        click.echo(json.dumps({"errorcode": self.error["errorcode"], "errortext": self.error["errortext"]}))


@contextmanager
def open_session(ctx: click.Context) -> Iterator[tuple[Cloud, Any]]:
    """The cloud on the root options' home and the calling account; errors become `Refused`."""
    opts = ctx.find_root().obj
    root = home_dir(opts["home"])
    root.mkdir(parents=True, exist_ok=True)
    logging.basicConfig(
        filename=root / "hvsnap.log", level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s"
    )
    try:
        with open_cloud(root, opts["db"]) as cloud:
            yield cloud, cloud.account(opts["account"])
    except CloudError as err:
        raise Refused(err.as_dict()) from None
    except HostError as err:
        raise Refused({"errorcode": 530, "errortext": err.message}) from None
    except (click.ClickException, click.exceptions.Exit):
        raise
    except Exception:
        logging.getLogger("hvsnap.cli").exception("command failed")
        raise Refused({"errorcode": 530, "errortext": "Unexpected exception (see hvsnap.log)"}) from None


def command(group: click.Group, name: str, **kw: Any) -> Callable[[Callable[..., Any]], click.Command]:
    """A subcommand that opens the cloud, takes ``--json``, and prints what it returns."""

    def wrap(fn: Callable[..., Any]) -> click.Command:
        @group.command(name, **kw)
        @click.option("--json", "as_json", is_flag=True, help="Print JSON (CloudStack field names)")
        @click.pass_context
        @wraps(fn)
        def run(ctx: click.Context, as_json: bool, **args: Any) -> None:
            with open_session(ctx) as (cloud, caller):
                out = fn(cloud, caller, **args)
                show(cloud, out, as_json)

        return run

    return wrap


def finish(cloud: Cloud, job: AsyncJob) -> Obj:
    """The job's result object, or its failure raised as the CloudError it carries."""
    result = cloud.manager.job_result(job)
    if result["jobstatus"] != 1:
        raise CloudError.coded(result["jobresult"]["errorcode"], result["jobresult"]["errortext"])
    return result["jobresult"]


def show(cloud: Cloud, out: Any, as_json: bool) -> None:
    """Print a command's result: JSON, a tree, or a table of its objects."""
    if as_json:
        click.echo(json.dumps(out, indent=2, default=str))
    elif isinstance(out, Tree):
        console.print(out)
    elif isinstance(out, list):
        _table(out)
    elif isinstance(out, dict) and len(out) == 1 and isinstance(next(iter(out.values())), dict):
        _table([next(iter(out.values()))])
    elif isinstance(out, dict):
        _table([out])
    else:
        console.print(out)


#: human-readable columns, by a key only that kind of object has
PROFILES = (
    ("parentName", ("id", "displayname", "type", "state", "current", "parentName", "created")),
    ("instancename", ("id", "name", "instancename", "state", "serviceofferingname")),
    ("vmsnapshotchainsize", ("id", "name", "type", "size", "path", "vmsnapshotchainsize", "vmname")),
    ("volumename", ("id", "name", "state", "volumename", "physicalsize", "created")),
    ("maxsnaps", ("id", "virtualmachinename", "intervaltype", "schedule", "timezone", "maxsnaps", "nextrun")),
    ("resourcetypename", ("account", "domain", "resourcetypename", "max", "used")),
)


def _table(rows: list[Obj]) -> None:
    if not rows:
        console.print("(none)")
        return
    cols = next((list(c) for key, c in PROFILES if key in rows[0]), list(rows[0]))
    table = Table(*cols)
    for r in rows:
        table.add_row(*("" if r.get(c) is None else str(r.get(c)) for c in cols))
    console.print(table)
