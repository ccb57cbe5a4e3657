"""Shared by every ``hvsnap`` command group: the command decorator, errors and output.

Every command takes ``--json`` and then prints CloudStack response objects (the API's field
names); without it, objects print as a card of fields, lists as a table (ids in full, other
columns wrap), an empty list as "no ...". A refused request prints ``{"errorcode": N,
"errortext": "..."}`` and exits 3; a usage error exits 2. Commands act as the admin unless
``--account NAME`` says otherwise, and talk to the API (:mod:`harness.cli.client`).

User text (names, descriptions, guest data) is printed literally: no rich markup or emoji
codes are interpreted, and control characters and escape sequences show escaped
(``\\x1b``, ``\\n``), so a name cannot repaint or hijack the terminal.
"""

from __future__ import annotations

import importlib
import json
import logging
import re
import sys
import unicodedata
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import wraps
from typing import Any

import click
from rich import box
from rich.console import Console, ConsoleOptions, RenderableType, RenderResult
from rich.table import Table
from rich.text import Text

from harness.api import discovery
from harness.cli.client import Api, ApiRefusal, InProcess, OverHttp
from harness.domain.errors import CloudError
from harness.drivers import HostError
from harness.service import accounts
from harness.service.cloud import home_dir, open_cloud, open_store

EXIT_REFUSED = 3
Obj = dict[str, Any]
log = logging.getLogger("hvsnap.cli")


def console() -> Console:
    """Standard output; nothing in what it prints is read as markup, emoji or highlights."""
    return Console(highlight=False, markup=False, emoji=False, soft_wrap=False)


class Refused(click.ClickException):
    """A CloudStack refusal: printed as ``{errorcode, errortext}``, exit status 3."""

    exit_code = EXIT_REFUSED

    def __init__(self, error: Obj) -> None:
        super().__init__(str(error.get("errortext")))
        self.error = error

    def show(self, file: Any = None) -> None:
        click.echo(json.dumps({"errorcode": self.error["errorcode"], "errortext": self.error["errortext"]}))


# ------------------------------------------------------------------------------- user text

#: Shown as themselves although their category is "format": they join emoji and scripts.
_JOINERS = {"\u200c", "\u200d"}


def printable(text: str) -> str:
    """``text`` with control and format characters escaped (``\\x1b``, ``\\n``, ``\\u202e``)."""
    if text.isprintable():
        return text
    out = []
    for ch in text:
        if ch in _JOINERS or unicodedata.category(ch) not in ("Cc", "Cf", "Zl", "Zp", "Cs", "Co", "Cn"):
            out.append(ch)
        else:
            out.append(ch.encode("unicode_escape").decode("ascii"))  # \x1b, \n, \u202e, \U000e0001
    return "".join(out)


def literal(value: Any) -> Text:
    """A table or card cell: the value's text exactly, escaped, never markup."""
    if value is None:
        return Text("")
    if isinstance(value, bool):
        return Text("yes" if value else "no")
    return Text(printable(str(value)))


# ------------------------------------------------------------------------------- parsing

_NUMBER = re.compile(r"-\d+(\.\d+)?")


class CliCommand(click.Command):
    """A subcommand that takes negative numbers as values (``config set KEY -5``)."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if any(_NUMBER.fullmatch(a) for a in args) and not self._unknown_option(ctx, args):
            ctx.ignore_unknown_options = True  # "-5" then stays a positional value, in order
        return super().parse_args(ctx, args)

    def _unknown_option(self, ctx: click.Context, args: list[str]) -> bool:
        known = {o for p in self.get_params(ctx) if isinstance(p, click.Option) for o in (*p.opts, *p.secondary_opts)}
        for arg in args:
            if arg == "--":
                return False
            if arg.startswith("-") and not _NUMBER.fullmatch(arg) and arg.split("=", 1)[0] not in known:
                return True
        return False


class CliGroup(click.Group):
    command_class = CliCommand


class RootGroup(CliGroup):
    """``hvsnap``: usage errors print with their user text escaped, like everything else.
    ``lazy``: command name -> ("module:attribute", one-line help), imported when used."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lazy: dict[str, tuple[str, str]] = {}

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*self.commands, *self.lazy})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in self.lazy:
            target, purpose = self.lazy[cmd_name]
            module, _, attribute = target.partition(":")
            found: click.Command = getattr(importlib.import_module(module), attribute)
            found.short_help = found.short_help or purpose
            self.add_command(found, cmd_name)
        return self.commands.get(cmd_name)

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, False, **extra)
        try:
            rv = super().main(args, prog_name, complete_var, False, **extra)
        except click.ClickException as err:
            if not isinstance(err, Refused):
                vars(err)["message"] = printable(err.message)
            err.show()
            sys.exit(err.exit_code)
        except click.Abort:
            click.echo("Aborted!", err=True)
            sys.exit(1)
        sys.exit(rv if isinstance(rv, int) else 0)


CliGroup.group_class = CliGroup


def group(name: str, help: str, example: str) -> CliGroup:
    """A command group with its one-line purpose and an example."""
    return CliGroup(name, help=f"{help}\n\n{_example(example)}", short_help=help)


def _example(example: str) -> str:
    return "\b\nExample:\n  " + "\n  ".join(example.splitlines())


# ------------------------------------------------------------------------------- sessions


@contextmanager
def open_api(ctx: click.Context, wait: bool = True, recover: str = "if-needed") -> Iterator[Api]:
    """The API on the root options' home as the calling account: the server's when one
    serves the home, else the home's cloud opened in-process (``recover``: when its
    opening syncs first, ``harness.service.cloud.open_cloud``). Errors become `Refused`."""
    opts = ctx.find_root().obj
    root = home_dir(opts["home"])
    root.mkdir(parents=True, exist_ok=True)
    logging.basicConfig(
        filename=root / "hvsnap.log", level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s"
    )
    try:
        served = discovery.served(root)
        if served is not None:
            with open_store(root, opts["db"]) as (factory, admin):  # the keys only: the server has the host
                caller = admin if opts["account"] is None else accounts.account_named(factory, opts["account"])
                yield Api(OverHttp(served.endpoint), caller, factory, wait)
        else:
            with open_cloud(root, opts["db"], recover=recover) as cloud:
                yield Api(InProcess(cloud), cloud.account(opts["account"]), cloud.manager.uow_factory, wait)
    except ApiRefusal as err:
        raise Refused(err.error) from None
    except CloudError as err:
        raise Refused(err.as_dict()) from None
    except HostError as err:
        raise Refused({"errorcode": 530, "errortext": err.message}) from None
    except (click.ClickException, click.exceptions.Exit, click.Abort):
        raise
    except Exception:
        log.exception("command failed")
        raise Refused({"errorcode": 530, "errortext": "Unexpected exception (see hvsnap.log)"}) from None


def command(
    parent: click.Group, name: str, example: str, mutating: bool = False, recover: str = "if-needed", **kw: Any
) -> Callable[[Callable[..., Any]], click.Command]:
    """A subcommand that calls the API, takes ``--json``, and prints what it returns.
    ``mutating``: it starts jobs, and takes ``--wait/--no-wait``. ``recover``: as
    :func:`open_api`'s. The function receives the :class:`Api` and the command's
    parameters; it returns an object, a :class:`Listing` or an :class:`Output`."""

    def wrap(fn: Callable[..., Any]) -> click.Command:
        @click.pass_context
        @wraps(fn)
        def run(ctx: click.Context, as_json: bool, wait: bool = True, **args: Any) -> None:
            with open_api(ctx, wait, recover) as api:
                out = fn(api, **args)
            show(out, as_json)

        click.option("--json", "as_json", is_flag=True, help="Print JSON (CloudStack's objects and field names)")(run)
        if mutating:
            click.option(
                "--wait/--no-wait", default=True, help="Wait for the job to finish (default), or print its id at once"
            )(run)
        return parent.command(name, cls=CliCommand, epilog=_example(example), **kw)(run)

    return wrap


# ------------------------------------------------------------------------------- output


@dataclass
class Listing:
    """A list of CloudStack objects: a table, or "no <noun>" when empty."""

    noun: str
    items: list[Obj]
    columns: Sequence[str] | None = None


@dataclass
class Output:
    """A result with its own text: ``data`` for ``--json``, ``text`` for people (a ``str``
    is printed as it is, unwrapped: it must hold no user text that is not escaped)."""

    data: Any
    text: RenderableType
    extra: list[RenderableType] = field(default_factory=list)


#: The fields people need, by a key only that kind of object has (first match wins): on a
#: card all of them, in a table those before the ``|`` (80 columns hold them).
PROFILES: tuple[tuple[str, str], ...] = (
    ("current", "id displayname type state current | parentName virtualmachinename created"),
    ("instancename", "id name state serviceofferingname | instancename created"),
    ("vmsnapshotchainsize", "id name type size vmname | path vmsnapshotchainsize"),
    ("volumename", "id name state volumename | physicalsize created"),
    ("maxsnaps", "id virtualmachinename intervaltype schedule maxsnaps | timezone nextrun"),
    ("resourcetypename", "account domain resourcetypename max used |"),
    ("jobstatus", "jobid cmd jobstatus | jobresultcode created completed"),
    ("accounttype", "id name accounttype domain |"),
    ("cpunumber", "id name cpunumber cpuspeed memory |"),
    ("vmsnapshotenabled", "id hypervisor hypervisorversion vmsnapshotenabled |"),
    ("defaultvalue", "name value defaultvalue | description"),
)
#: Table headings for people (``--json`` keeps CloudStack's names).
LABELS = {
    "displayname": "name",
    "current": "cur",
    "serviceofferingname": "offering",
    "virtualmachinename": "vm",
    "intervaltype": "interval",
    "resourcetypename": "resource",
    "jobresultcode": "code",
    "jobstatus": "status",
    "accounttype": "type",
    "cpunumber": "cpus",
    "cpuspeed": "MHz",
    "memory": "MiB",
    "hypervisorversion": "version",
    "vmsnapshotenabled": "vm snapshots",
    "defaultvalue": "default",
}
#: Columns that hold ids: never wrapped or cut.
ID_COLUMNS = {"id", "jobid", "virtualmachineid", "volumeid", "parent", "apikey", "secretkey"}


def fields_of(obj: Obj, brief: bool = False) -> list[str]:
    """The fields a card (or, ``brief``, a table) shows of this kind of object."""
    profile = next((cols for key, cols in PROFILES if key in obj), None)
    if profile is None:
        return list(obj)
    wide, _, rest = profile.partition("|")
    return wide.split() if brief else (wide + rest).split()


def show(out: Any, as_json: bool) -> None:
    """Print a command's result: JSON, or a card, table or text for people."""
    if isinstance(out, Listing):
        data: Any = out.items
    elif isinstance(out, Output):
        data = out.data
    else:
        data = out
    if as_json:
        click.echo(json.dumps(data, indent=2, default=str))
        return
    if isinstance(out, Output):
        parts = [out.text, *out.extra]
    elif isinstance(out, Listing):
        parts = [table(out.items, out.columns, console().width) if out.items else Text(f"no {out.noun}")]
    elif isinstance(out, dict):
        parts = [card(out)]
    else:
        parts = [literal(out)]
    con = console()
    for part in parts:
        if isinstance(part, str):
            click.echo(part)
            continue
        with con.capture() as captured:
            con.print(part)
        click.echo("\n".join(line.rstrip() for line in captured.get().splitlines()))


def one(found: list[Obj], kind: str, ref: str) -> Output:
    """The single object a ``show`` command found, every field of it; none is a 431."""
    if not found:
        raise ApiRefusal({"errorcode": 431, "errortext": f"Unable to find {kind} with specified id: {ref}"})
    return Output(found[0], card(found[0], list(found[0])))


ID_WIDTH = 36


class Card:
    """One object as ``field  value`` lines; where an id would not fit beside the field
    names, each value goes on a line of its own below its name."""

    def __init__(self, rows: list[tuple[str, Text]]) -> None:
        self.rows = rows

    def __rich_console__(self, con: Console, options: ConsoleOptions) -> RenderResult:
        label = max((len(name) for name, _ in self.rows), default=0)
        grid = Table.grid(padding=(0, 2))
        if options.max_width >= label + 2 + ID_WIDTH:
            grid.add_column(style="bold", no_wrap=True)
            grid.add_column(overflow="fold")
            for name, value in self.rows:
                grid.add_row(name, value)
        else:
            grid.add_column(overflow="fold")
            for name, value in self.rows:
                grid.add_row(Text(name, style="bold"))
                grid.add_row(Text.assemble("  ", value))
        yield grid


def card(obj: Obj, names: Sequence[str] | None = None) -> Card:
    """One object's fields (``names``: those its kind shows unless given)."""
    shown = names if names is not None else fields_of(obj)
    return Card([(n, literal(obj[n])) for n in shown if n in obj and not isinstance(obj[n], (dict, list))])


#: Below this many columns per non-id column (beside a 36-character id), rows are stacked.
MIN_COLUMN = 10


def table(rows: list[Obj], columns: Sequence[str] | None = None, width: int = 80) -> RenderableType:
    """Rows as a table, ids whole; on a terminal too narrow for that, each row as its id
    on a line of its own with the other fields below it."""
    cols = list(columns) if columns is not None else fields_of(rows[0], brief=True)
    ids = [c for c in cols if c in ID_COLUMNS]
    if width < 38 * len(ids) + MIN_COLUMN * (len(cols) - len(ids)):
        stacked = Table.grid()
        for r in rows:
            stacked.add_row(Text("  ").join(literal(r.get(c)) for c in ids))
            cells = [(c, _cell(c, r.get(c))) for c in cols if c not in ids]
            rest = [Text.assemble((f"{LABELS.get(c, c)} ", "dim"), cell) for c, cell in cells if cell.plain]
            stacked.add_row(Text("  ").join(rest).append("\n"))
        return stacked
    out = Table(box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False, collapse_padding=True)
    for c in cols:
        if c in ID_COLUMNS:
            out.add_column(LABELS.get(c, c), no_wrap=True, min_width=36)
        else:
            out.add_column(LABELS.get(c, c), overflow="fold")
    for r in rows:
        out.add_row(*(_cell(c, r.get(c)) for c in cols))
    return out


JOB_STATUS = {0: "pending", 1: "succeeded", 2: "failed"}


def _cell(column: str, value: Any) -> Text:
    if column == "current":
        return Text("*" if value else "")
    if column == "jobstatus":
        return Text(JOB_STATUS.get(value, str(value)))
    return literal(value)
