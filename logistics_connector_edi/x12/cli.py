"""Command line for analysts and scripts; needs no database.

x12 validate FILE   findings in plain words; exit 0 accepted, 1 accepted with errors,
                    2 rejected, 3 unreadable
x12 ack FILE        the 997/TA1 the file deserves, to stdout or -o FILE
x12 dump FILE       interchanges, groups, sets and segments as JSON
"""

import argparse
import json
import pathlib
import sys

from .ack import build_acknowledgements
from .charset import BASIC, EXTENDED
from .serializer import LINE_BREAK_CHOICES, Serializer
from .spec import PartnerRules
from .tokenizer import Delimiters
from .validator import X12Reader

EXIT_UNREADABLE = 3


def say(text="", stream=None):
    """One line of output for the person or script running the command."""
    (stream or sys.stdout).write(f"{text}\n")


def _rules(args):
    return PartnerRules(
        charset=args.charset,
        versions=tuple(args.version or ("004010",)),
        tolerated=frozenset(args.tolerate or ()),
    )


def _open_output(path):
    if path in (None, "-"):
        return sys.stdout, False
    return open(path, "w", encoding="ascii", newline=""), True


def _readable(path):
    file = pathlib.Path(path)
    if not file.is_file():
        say(f"{path}: unreadable: no such file", sys.stderr)
        return None
    return file


def cmd_validate(args):
    file = _readable(args.file)
    if file is None:
        return EXIT_UNREADABLE
    reader = X12Reader(file, rules=_rules(args), keep_segments=False)
    report = reader.run()
    if args.json:
        json.dump(report.to_dict(), sys.stdout, indent=2)
        sys.stdout.write("\n")
        return report.exit_status
    for line in report.summary():
        say(line)
    findings = report.findings()
    for line in findings:
        say(line)
    words = report.status.replace("_", " ")
    say(f"{args.file}: {words}" + (f", {len(findings)} finding(s)" if findings else ""))
    return report.exit_status


def cmd_ack(args):
    file = _readable(args.file)
    if file is None:
        return EXIT_UNREADABLE
    report = X12Reader(file, rules=_rules(args), keep_segments=False).run()
    if report.unreadable:
        say(f"{args.file}: unreadable: {report.unreadable}", sys.stderr)
        if not report.interchanges:
            return EXIT_UNREADABLE
    replies = build_acknowledgements(
        report,
        interchange_control_number=args.isa13,
        group_control_number=args.gs06,
        set_control_number=args.st02,
        always_ta1=args.ta1,
    )
    serializer = Serializer(
        Delimiters(args.element_separator, args.component_separator, args.segment_terminator),
        LINE_BREAK_CHOICES[args.line_break],
    )
    output, close = _open_output(args.output)
    try:
        for reply in replies:
            for piece in serializer.iter_serialize(reply):
                output.write(piece)
    finally:
        if close:
            output.close()
    return EXIT_UNREADABLE if report.unreadable else 0


def cmd_dump(args):
    file = _readable(args.file)
    if file is None:
        return EXIT_UNREADABLE
    reader = X12Reader(file, rules=_rules(args), keep_segments=True)
    segments_of = {}
    for parsed in reader:
        segments_of[id(parsed.result)] = [[s.tag, *s.elements] for s in parsed.segments or ()]
    report = reader.report
    document = {
        "status": report.status,
        "unreadable": report.unreadable,
        "interchanges": [
            {
                "isa": interchange.header,
                "delimiters": vars(interchange.delimiters),
                "sender": list(interchange.sender),
                "receiver": list(interchange.receiver),
                "control_number": interchange.control_number,
                "code": interchange.code,
                "groups": [
                    {
                        "functional_id": group.functional_id,
                        "sender": group.sender,
                        "receiver": group.receiver,
                        "date": group.date,
                        "time": group.time,
                        "control_number": group.control_number,
                        "version": group.version,
                        "code": group.code,
                        "sets": [
                            {
                                "set_id": result.set_id,
                                "control_number": result.control_number,
                                "code": result.code,
                                "segments": segments_of.get(id(result), []),
                            }
                            for result in group.sets
                        ],
                    }
                    for group in interchange.groups
                ],
            }
            for interchange in report.interchanges
        ],
    }
    output, close = _open_output(args.output)
    try:
        json.dump(document, output, indent=1)
        output.write("\n")
    finally:
        if close:
            output.close()
    if report.unreadable:
        say(f"{args.file}: unreadable: {report.unreadable}", sys.stderr)
        return EXIT_UNREADABLE
    return 0


def build_parser():
    parser = argparse.ArgumentParser(
        prog="x12", description="Validate, acknowledge and dump X12 files (no database)."
    )
    commands = parser.add_subparsers(dest="command", required=True)

    def common(command):
        command.add_argument("file", help="the X12 file")
        command.add_argument(
            "--charset",
            choices=(BASIC, EXTENDED),
            default=EXTENDED,
            help="character set allowed in elements (default: extended)",
        )
        command.add_argument(
            "--version",
            action="append",
            help="accepted GS08 version, 004010 or 005010 (repeatable; default 004010)",
        )
        command.add_argument(
            "--tolerate",
            action="append",
            metavar="CODE",
            help="finding that only makes a set 'accepted with errors', e.g. AK4:5",
        )

    validate_cmd = commands.add_parser("validate", help="findings in plain words")
    common(validate_cmd)
    validate_cmd.add_argument("--json", action="store_true", help="findings as JSON")
    validate_cmd.set_defaults(func=cmd_validate)

    ack_cmd = commands.add_parser("ack", help="write the 997/TA1 the file deserves")
    common(ack_cmd)
    ack_cmd.add_argument("-o", "--output", help="output file (default: stdout)")
    ack_cmd.add_argument("--isa13", type=int, default=1, help="first ISA13 of the replies")
    ack_cmd.add_argument("--gs06", type=int, default=1, help="first GS06 of the replies")
    ack_cmd.add_argument("--st02", type=int, default=1, help="first ST02 of the replies")
    ack_cmd.add_argument("--ta1", action="store_true", help="always include a TA1")
    ack_cmd.add_argument("--element-separator", default="*")
    ack_cmd.add_argument("--component-separator", default=">")
    ack_cmd.add_argument("--segment-terminator", default="~")
    ack_cmd.add_argument("--line-break", choices=tuple(LINE_BREAK_CHOICES), default="lf")
    ack_cmd.set_defaults(func=cmd_ack)

    dump_cmd = commands.add_parser("dump", help="the file's structure as JSON")
    common(dump_cmd)
    dump_cmd.add_argument("-o", "--output", help="output file (default: stdout)")
    dump_cmd.set_defaults(func=cmd_dump)
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except BrokenPipeError:  # e.g. piped into head
        return 0
    except OSError as error:
        say(f"{args.file}: unreadable: {error.strerror or error}", sys.stderr)
        return EXIT_UNREADABLE
