"""The guest's shell: a small POSIX-like shell over :class:`~simulator.guests.files.GuestFiles`.

It never starts a process and never opens a real file: every command is a Python function
over the VM's disk data and the VM's facts (name, current offering, uptime).

Syntax: words with ``'single'`` and ``"double"`` quotes and ``\\`` escapes; ``$NAME``,
``${NAME}`` and ``$?`` expand (``HOME``, ``USER``, ``PWD``, ``HOSTNAME``, ``SHELL``); ``;``,
``&&``, ``||`` and ``|`` join commands; ``>``, ``>>`` and ``<`` redirect; ``#`` starts a
comment. Command substitution (``$(...)``, backticks), background jobs (``&``), globs and
here-documents are not supported: a line using substitution or ``&`` is refused whole (exit
status 2) and runs nothing; a glob character stays a literal character.

Commands: ``echo [-n]``, ``cat``, ``ls [-l] [-a]``, ``rm [-r] [-f]``, ``mkdir [-p]``, ``touch``,
``sync``, ``md5sum``, ``sha256sum``, ``df [-h]``, ``hostname``, ``uptime``, ``dd``, ``cd``,
``pwd``, ``whoami``, ``true``, ``false``, ``grep [-c] [-i] [-v]`` (fixed strings),
``wc [-lwc]``, ``head [-n N]``, ``exit [N]``. Anything else answers ``<name>: command not
found``, status 127.
The virtual files ``/proc/cpuinfo``, ``/proc/meminfo``, ``/proc/uptime`` and ``/etc/hostname``
reflect the VM as it is now (its current service offering).
"""

from __future__ import annotations

import posixpath
import random
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from harness.drivers import HostError, InsufficientSpace
from simulator.guests import procfs
from simulator.guests.files import HOME, SYSTEM_DIRS, GuestFiles, TooLarge, normalise
from simulator.guests.procfs import Facts

MAX_LINE = 64 * 1024
_OPS = ("&&", "||", ">>", ";", "|", ">", "<", "&")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
STATUS = "\x00?"  # ``$?`` until the command runs (no word can hold a NUL byte)


class ShellSyntaxError(Exception):
    """A line the shell refuses whole."""


@dataclass
class Result:
    out: bytes = b""
    err: bytes = b""
    status: int = 0


@dataclass
class Command:
    argv: list[str] = field(default_factory=list)
    redirects: list[tuple[str, str]] = field(default_factory=list)


# --------------------------------------------------------------------------- parsing


def tokenize(line: str, env: dict[str, str]) -> list[tuple[str, str]]:
    """``("word", text)`` and ``("op", op)`` tokens, variables expanded, quotes removed."""
    tokens: list[tuple[str, str]] = []
    word: list[str] | None = None
    i, n = 0, len(line)
    while i < n:
        ch = line[i]
        if ch in " \t\r\n":
            if word is not None:
                tokens.append(("word", "".join(word)))
                word = None
            i += 1
            continue
        if ch == "#" and word is None:
            break
        op = next((o for o in _OPS if line.startswith(o, i)), None)
        if op is not None:
            if word is not None:
                tokens.append(("word", "".join(word)))
                word = None
            if op == "&":
                raise ShellSyntaxError("background jobs are not supported")
            tokens.append(("op", op))
            i += len(op)
            continue
        if word is None and ch == "~" and (i + 1 == n or line[i + 1] in "/ \t;&|<>"):
            word = [HOME]  # a leading ~ is the home directory
            i += 1
            continue
        word = [] if word is None else word
        if ch == "`":
            raise ShellSyntaxError("command substitution is not supported")
        if ch == "\\":
            if i + 1 < n:
                word.append(line[i + 1])
            i += 2
        elif ch == "'":
            end = line.find("'", i + 1)
            if end < 0:
                raise ShellSyntaxError("unterminated quoted string")
            word.append(line[i + 1 : end])
            i = end + 1
        elif ch == '"':
            i += 1
            while True:
                if i >= n:
                    raise ShellSyntaxError("unterminated quoted string")
                c = line[i]
                if c == '"':
                    i += 1
                    break
                if c == "`":
                    raise ShellSyntaxError("command substitution is not supported")
                if c == "\\" and i + 1 < n and line[i + 1] in '"\\$`':
                    word.append(line[i + 1])
                    i += 2
                elif c == "$":
                    text, i = _expand(line, i, env)
                    word.append(text)
                else:
                    word.append(c)
                    i += 1
        elif ch == "$":
            text, i = _expand(line, i, env)
            word.append(text)
        else:
            word.append(ch)
            i += 1
    if word is not None:
        tokens.append(("word", "".join(word)))
    return tokens


def _expand(line: str, i: int, env: dict[str, str]) -> tuple[str, int]:
    """Expand the ``$`` at ``i``; returns (text, index after it)."""
    rest = line[i + 1 :]
    if rest.startswith("("):
        raise ShellSyntaxError("command substitution is not supported")
    if rest.startswith("?"):
        return STATUS, i + 2  # the status when the command runs, not when the line was read
    if rest.startswith("{"):
        end = rest.find("}")
        if end < 0 or not _NAME.fullmatch(rest[1:end]):
            raise ShellSyntaxError("bad substitution")
        return env.get(rest[1:end], ""), i + end + 2
    m = _NAME.match(rest)
    if m is None:
        return "$", i + 1
    return env.get(m.group(0), ""), i + 1 + m.end()


def parse(tokens: list[tuple[str, str]]) -> list[tuple[str, list[Command]]]:
    """``(connector, pipeline)`` pairs; the first connector is ``;``."""
    out: list[tuple[str, list[Command]]] = []
    connector, pipeline, cmd = ";", [], Command()
    it = iter(tokens)
    for kind, text in it:
        if kind == "word":
            cmd.argv.append(text)
        elif text in (">", ">>", "<"):
            target = next(it, None)
            if target is None or target[0] != "word":
                raise ShellSyntaxError(f"syntax error near unexpected token '{text}'")
            cmd.redirects.append((text, target[1]))
        else:
            if not cmd.argv:
                raise ShellSyntaxError(f"syntax error near unexpected token '{text}'")
            pipeline.append(cmd)
            cmd = Command()
            if text != "|":
                out.append((connector, pipeline))
                connector, pipeline = text, []
    if cmd.argv:
        pipeline.append(cmd)
    elif pipeline or cmd.redirects or connector in ("&&", "||"):
        raise ShellSyntaxError("syntax error: unexpected end of line")
    if pipeline:
        out.append((connector, pipeline))
    return out


# --------------------------------------------------------------------------- the shell


class GuestShell:
    """One login session's shell: its working directory, last status and whether it exited.
    :meth:`run` runs one line; the caller holds the host's lock around it."""

    def __init__(self, files: GuestFiles, facts: Callable[[], Facts], rng: random.Random, user: str = "root") -> None:
        self.files, self.facts, self.rng, self.user = files, facts, rng, user
        self.hostname = files.vm
        self.cwd = HOME
        self.status = 0
        self.exited = False
        self._commands: dict[str, Callable[[list[str], bytes], Result]] = {
            "echo": self._echo,
            "cat": self._cat,
            "ls": self._ls,
            "rm": self._rm,
            "mkdir": self._mkdir,
            "touch": self._touch,
            "sync": lambda _a, _i: Result(),
            "true": lambda _a, _i: Result(),
            "false": lambda _a, _i: Result(status=1),
            "md5sum": lambda a, i: self._sum("md5", a, i),
            "sha256sum": lambda a, i: self._sum("sha256", a, i),
            "df": self._df,
            "hostname": lambda _a, _i: Result(f"{self.hostname}\n".encode()),
            "uptime": lambda _a, _i: Result(procfs.uptime_line(self.facts()).encode()),
            "whoami": lambda _a, _i: Result(f"{self.user}\n".encode()),
            "pwd": lambda _a, _i: Result(f"{self.cwd}\n".encode()),
            "cd": self._cd,
            "dd": self._dd,
            "grep": self._grep,
            "wc": self._wc,
            "head": self._head,
            "exit": self._exit,
        }

    @property
    def prompt(self) -> str:
        where = "~" if self.cwd == HOME else self.cwd
        return f"{self.user}@{self.hostname}:{where}# "

    def env(self) -> dict[str, str]:
        return {
            "HOME": HOME, "USER": self.user, "PWD": self.cwd, "SHELL": "/bin/sh",
            "HOSTNAME": self.hostname,
        }  # fmt: skip

    def run(self, line: str) -> Result:
        """Run one command line; the result's status is the last command's."""
        if len(line) > MAX_LINE:
            return self._done(Result(err=b"sh: line too long\n", status=2))
        try:
            program = parse(tokenize(line.replace("\x00", ""), self.env()))
        except ShellSyntaxError as err:
            return self._done(Result(err=f"sh: {err}\n".encode(), status=2))
        out, errs = bytearray(), bytearray()
        for connector, pipeline in program:
            if self.exited or (connector == "&&" and self.status != 0) or (connector == "||" and self.status == 0):
                continue
            data = b""
            for cmd in pipeline:
                result = self._command(cmd, data)
                errs += result.err
                data = result.out
                self.status = result.status
            out += data
        return Result(bytes(out), bytes(errs), self.status)

    def _done(self, result: Result) -> Result:
        self.status = result.status
        return result

    def _path(self, name: str) -> str:
        return normalise(name, self.cwd)

    def _command(self, cmd: Command, stdin: bytes) -> Result:
        argv = [a.replace(STATUS, str(self.status)) for a in cmd.argv]
        name, args = argv[0], argv[1:]
        for op, target in cmd.redirects:
            if op == "<":
                data = self._read_file(target)
                if data is None:
                    return Result(err=f"sh: {target}: No such file or directory\n".encode(), status=1)
                stdin = data
        handler = self._commands.get(name)
        if handler is None:
            return Result(err=f"sh: {name}: command not found\n".encode(), status=127)
        try:
            result = handler(args, stdin)
            for op, target in cmd.redirects:
                if op in (">", ">>"):
                    result = self._redirect(result, op, target)
        except InsufficientSpace:
            return Result(err=f"{name}: write error: No space left on device\n".encode(), status=1)
        except TooLarge:
            return Result(err=f"{name}: File too large\n".encode(), status=1)
        except HostError as err:
            return Result(err=f"{name}: I/O error ({err.code})\n".encode(), status=1)
        return result

    def _redirect(self, result: Result, op: str, target: str) -> Result:
        path = self._path(target)
        if self.files.is_dir(path) or path.startswith("/proc/") or path.startswith("/dev/"):
            if path in ("/dev/null",):
                return Result(b"", result.err, result.status)
            return Result(b"", result.err + f"sh: {target}: Permission denied\n".encode(), 1)
        if not self.files.is_dir(posixpath.dirname(path)):
            return Result(b"", result.err + f"sh: {target}: No such file or directory\n".encode(), 1)
        before = (self.files.read(path) or b"") if op == ">>" else b""
        self.files.write(path, (before + result.out).decode("utf-8", "surrogateescape"))
        return Result(b"", result.err, result.status)

    def _read_file(self, name: str) -> bytes | None:
        path = self._path(name)
        virtual = procfs.virtual_file(path, self.facts())
        return virtual if virtual is not None else self.files.read(path)

    # ------------------------------------------------------------------ commands

    def _echo(self, args: list[str], _stdin: bytes) -> Result:
        newline = True
        if args and args[0] == "-n":
            newline, args = False, args[1:]
        return Result((" ".join(args) + ("\n" if newline else "")).encode("utf-8", "surrogateescape"))

    def _cat(self, args: list[str], stdin: bytes) -> Result:
        if not args:
            return Result(stdin)
        out, err, status = bytearray(), bytearray(), 0
        for name in args:
            if self.files.is_dir(self._path(name)):
                err += f"cat: {name}: Is a directory\n".encode()
                status = 1
                continue
            data = self._read_file(name)
            if data is None:
                err += f"cat: {name}: No such file or directory\n".encode()
                status = 1
            else:
                out += data
        return Result(bytes(out), bytes(err), status)

    def _ls(self, args: list[str], _stdin: bytes) -> Result:
        flags = "".join(a[1:] for a in args if a.startswith("-"))
        names = [a for a in args if not a.startswith("-")] or ["."]
        entries = self.files.entries()
        out, err, status = [], [], 0
        for name in names:
            path = self._path(name)
            entry = entries.get(path) or procfs.virtual_entry(path)
            if entry is None:
                err.append(f"ls: cannot access '{name}': No such file or directory\n")
                status = 2
                continue
            shown = self.files.children(path) if entry.directory else [entry]
            if path == "/proc":
                shown = procfs.proc_entries()
            if "a" not in flags:
                shown = [e for e in shown if not posixpath.basename(e.path).startswith(".")]
            if len(names) > 1 and entry.directory:
                out.append(f"{name}:\n")
            if "l" in flags:
                if entry.directory:
                    out.append(f"total {sum(-(-e.size // 4096) * 4 for e in shown)}\n")
                out += [procfs.long_line(e, name if not entry.directory else None) for e in shown]
            else:
                out += [f"{posixpath.basename(e.path) if entry.directory else name}\n" for e in shown]
        return Result("".join(out).encode(), "".join(err).encode(), status)

    def _rm(self, args: list[str], _stdin: bytes) -> Result:
        flags = "".join(a[1:] for a in args if a.startswith("-") and a != "--")
        recursive, force = bool(set(flags) & {"r", "R"}), "f" in flags
        err, status = [], 0
        entries = self.files.entries()
        for name in (a for a in args if not a.startswith("-")):
            path = self._path(name)
            entry = entries.get(path)
            if path == "/" and recursive:
                err.append("rm: it is dangerous to operate recursively on '/'\n")
                err.append("rm: use --no-preserve-root to override this failsafe\n")
                status = 1
            elif entry is None:
                if not force:
                    err.append(f"rm: cannot remove '{name}': No such file or directory\n")
                    status = 1
            elif entry.directory and not recursive:
                err.append(f"rm: cannot remove '{name}': Is a directory\n")
                status = 1
            else:
                doomed = [p for p in entries if p == path or p.startswith(path.rstrip("/") + "/")]
                for p in sorted(doomed, reverse=True):
                    if p not in SYSTEM_DIRS:
                        self.files.remove(p)
        return Result(b"", "".join(err).encode(), status)

    def _mkdir(self, args: list[str], _stdin: bytes) -> Result:
        parents = "-p" in args
        err, status = [], 0
        for name in (a for a in args if not a.startswith("-")):
            path = self._path(name)
            entries = self.files.entries()
            if path in entries:
                if not parents or not entries[path].directory:
                    err.append(f"mkdir: cannot create directory '{name}': File exists\n")
                    status = 1
                continue
            parent = posixpath.dirname(path)
            if parent not in entries and not parents:
                err.append(f"mkdir: cannot create directory '{name}': No such file or directory\n")
                status = 1
                continue
            if parent in entries and not entries[parent].directory:
                err.append(f"mkdir: cannot create directory '{name}': Not a directory\n")
                status = 1
                continue
            self.files.mkdir(path)
        return Result(b"", "".join(err).encode(), status)

    def _touch(self, args: list[str], _stdin: bytes) -> Result:
        err, status = [], 0
        for name in (a for a in args if not a.startswith("-")):
            path = self._path(name)
            if self.files.value(path) is not None or self.files.is_dir(path):
                continue
            if not self.files.is_dir(posixpath.dirname(path)):
                err.append(f"touch: cannot touch '{name}': No such file or directory\n")
                status = 1
                continue
            self.files.write(path, "")
        return Result(b"", "".join(err).encode(), status)

    def _sum(self, algorithm: str, args: list[str], stdin: bytes) -> Result:
        import hashlib

        if not args:
            return Result(f"{hashlib.new(algorithm, stdin).hexdigest()}  -\n".encode())
        out, err, status = [], [], 0
        tool = f"{algorithm}sum"
        for name in args:
            if self.files.is_dir(self._path(name)):
                err.append(f"{tool}: {name}: Is a directory\n")
                status = 1
                continue
            data = self._read_file(name)
            if data is None:
                err.append(f"{tool}: {name}: No such file or directory\n")
                status = 1
            else:
                out.append(f"{hashlib.new(algorithm, data).hexdigest()}  {name}\n")
        return Result("".join(out).encode(), "".join(err).encode(), status)

    def _df(self, args: list[str], _stdin: bytes) -> Result:
        return Result(procfs.df(self.files.disk_size(), self.files.used_bytes(), human="-h" in args).encode())

    def _cd(self, args: list[str], _stdin: bytes) -> Result:
        path = self._path(args[0]) if args else HOME
        if not self.files.is_dir(path):
            return Result(err=f"sh: cd: {args[0]}: No such file or directory\n".encode(), status=1)
        self.cwd = path
        return Result()

    def _dd(self, args: list[str], _stdin: bytes) -> Result:
        opts = dict(a.split("=", 1) for a in args if "=" in a)
        unknown = [a for a in args if "=" not in a or a.split("=", 1)[0] not in ("if", "of", "bs", "count")]
        if unknown:
            return Result(err=f"dd: unrecognized operand '{unknown[0]}'\n".encode(), status=1)
        source = opts.get("if")
        if source not in ("/dev/urandom", "/dev/random", "/dev/zero"):
            return Result(err=f"dd: failed to open '{source}': Permission denied\n".encode(), status=1)
        if "of" not in opts:
            return Result(err=b"dd: writing to standard output is not supported\n", status=1)
        try:
            bs, count = procfs.size_of(opts.get("bs", "512")), int(opts.get("count", "1"))
        except ValueError:
            return Result(err=b"dd: invalid number\n", status=1)
        nbytes = bs * count
        path = self._path(opts["of"])
        if self.files.is_dir(path) or not self.files.is_dir(posixpath.dirname(path)):
            return Result(err=f"dd: failed to open '{opts['of']}': No such file or directory\n".encode(), status=1)
        if nbytes > self.files.disk_size():
            return Result(err=f"dd: error writing '{opts['of']}': No space left on device\n".encode(), status=1)
        seed = -1 if source == "/dev/zero" else self.rng.randrange(2**63)
        try:
            self.files.fill(path, nbytes, seed)
        except InsufficientSpace:
            return Result(err=f"dd: error writing '{opts['of']}': No space left on device\n".encode(), status=1)
        report = f"{count}+0 records in\n{count}+0 records out\n{nbytes} bytes copied, 0.01 s\n"
        return Result(err=report.encode())

    def _grep(self, args: list[str], stdin: bytes) -> Result:
        flags = "".join(a[1:] for a in args if a.startswith("-"))
        rest = [a for a in args if not a.startswith("-")]
        if not rest:
            return Result(err=b"usage: grep [-civ] PATTERN [FILE]\n", status=2)
        pattern, files = rest[0], rest[1:]
        data = stdin
        if files:
            found = self._read_file(files[0])
            if found is None:
                return Result(err=f"grep: {files[0]}: No such file or directory\n".encode(), status=2)
            data = found
        fold = (lambda s: s.lower()) if "i" in flags else (lambda s: s)
        text = data.decode("utf-8", "replace").splitlines()
        lines = [ln for ln in text if (fold(pattern) in fold(ln)) != ("v" in flags)]
        out = f"{len(lines)}\n" if "c" in flags else "".join(f"{ln}\n" for ln in lines)
        return Result(out.encode(), status=0 if lines else 1)

    def _wc(self, args: list[str], stdin: bytes) -> Result:
        names = [a for a in args if not a.startswith("-")]
        data = stdin if not names else (self._read_file(names[0]) or b"")
        counts = {"l": data.count(b"\n"), "w": len(data.split()), "c": len(data)}
        flags = "".join(a[1:] for a in args if a.startswith("-")) or "lwc"
        return Result((" ".join(str(counts[f]) for f in "lwc" if f in flags) + "\n").encode())

    def _head(self, args: list[str], stdin: bytes) -> Result:
        count = 10
        if len(args) >= 2 and args[0] == "-n" and args[1].isdigit():
            count, args = int(args[1]), args[2:]
        data = stdin if not args else (self._read_file(args[0]) or b"")
        return Result(b"".join(data.splitlines(keepends=True)[:count]))

    def _exit(self, args: list[str], _stdin: bytes) -> Result:
        self.exited = True
        code = int(args[0]) & 255 if args and args[0].isdigit() else self.status
        return Result(status=code)
