"""The X12 command line, run as the real command (scripts/x12) in a subprocess."""

import json
import os
import pathlib
import subprocess
import sys

import pytest

from ..x12 import PartnerRules, validate
from .x12_samples import ORDER_940, SHIPMENT_945, x12

ROOT = pathlib.Path(__file__).resolve().parents[2]
COMMAND = ROOT / "scripts" / "x12"


def run(*args):
    return subprocess.run(
        [str(COMMAND), *map(str, args)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.fixture
def files(tmp_path):
    def write(name, text):
        path = tmp_path / name
        path.write_bytes(text.encode() if isinstance(text, str) else text)
        return path

    return write


def test_the_wrapper_is_executable_and_needs_no_database():
    assert os.access(COMMAND, os.X_OK)
    result = run("--help")
    assert result.returncode == 0
    assert "validate" in result.stdout and "ack" in result.stdout and "dump" in result.stdout


def test_the_package_runs_standalone_with_python_m(files):
    path = files("order.x12", x12(ORDER_940))
    result = subprocess.run(
        [sys.executable, "-m", "x12", "validate", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={**os.environ, "PYTHONPATH": str(ROOT / "logistics_connector_edi")},
        cwd="/",
    )
    assert result.returncode == 0, result.stderr
    assert f"{path}: accepted" in result.stdout


def test_validate_exit_status_by_result(files):
    accepted = run("validate", files("ok.x12", x12(ORDER_940)))
    assert accepted.returncode == 0
    assert "group 1 (OW, 004010): accepted, 1 of 1 sets accepted" in accepted.stdout

    too_long = x12([f"W05*N*{'X' * 23}", *ORDER_940[1:]])
    path = files("long.x12", too_long)
    assert run("validate", path).returncode == 2
    tolerated = run("validate", path, "--tolerate", "AK4:5")
    assert tolerated.returncode == 1
    assert "accepted with errors" in tolerated.stdout

    rejected = run("validate", files("bad.x12", x12(SHIPMENT_945[:-1], functional_id="SW")))
    assert rejected.returncode == 2
    assert (
        "set 945 0001: segment W03 at position 12 of the set (segment 14 of the file): "
        "segment W03 is mandatory but missing (expected before SE)" in rejected.stdout
    )
    assert rejected.stdout.rstrip().endswith("rejected, 1 finding(s)")

    unreadable = run("validate", files("junk.x12", "hello, not X12 at all" * 10))
    assert unreadable.returncode == 3
    assert "unreadable: expected an interchange header 'ISA'" in unreadable.stdout
    assert run("validate", "/nonexistent/file.x12").returncode == 3


def test_validate_json(files):
    result = run("validate", "--json", files("bad.x12", x12(ORDER_940).replace("GE*1*1", "GE*2*1")))
    assert result.returncode == 2
    report = json.loads(result.stdout)
    group = report["interchanges"][0]["groups"][0]
    assert group["code"] == "R"
    assert group["errors"][0]["code"] == "5"


def test_ack_writes_the_997_the_file_deserves(files, tmp_path):
    path = files("bad.x12", x12(SHIPMENT_945[:-1], functional_id="SW", gs06="31"))
    output = tmp_path / "ack.x12"
    result = run("ack", path, "-o", output, "--isa13", 500, "--gs06", 9, "--st02", 12)
    assert result.returncode == 0, result.stderr
    text = output.read_text()
    assert "IEA*1*000000500~" in text and "GE*1*9~" in text and "ST*997*0012~" in text
    assert "AK1*SW*31~\nAK2*945*0001~\nAK3*W03*12**3~\nAK5*R*5~\nAK9*R*1*1*0~" in text
    assert validate(text).status == "accepted"

    stdout = run("ack", files("ok.x12", x12(ORDER_940)), "--line-break", "none", "--ta1")
    assert stdout.returncode == 0
    assert "\n" not in stdout.stdout
    assert "TA1*000000001*250301*1200*A*000~" in stdout.stdout
    assert "AK9*A*1*1*1~" in stdout.stdout


def test_ack_with_envelope_errors_is_a_ta1(files):
    text = x12(ORDER_940).replace("IEA*1*000000001", "IEA*1*000000002")
    result = run("ack", files("env.x12", text))
    assert result.returncode == 0
    assert "TA1*000000001*250301*1200*R*001~" in result.stdout
    assert "AK1" not in result.stdout


def test_ack_of_an_unreadable_file(files):
    result = run("ack", files("junk.x12", "ISA*00*short"))
    assert result.returncode == 3
    assert "ends inside the ISA segment" in result.stderr
    assert result.stdout == ""


def test_dump_as_json(files):
    text = x12(ORDER_940, ORDER_940) + x12(SHIPMENT_945, functional_id="SW", control="000000002")
    result = run("dump", files("two.x12", text))
    assert result.returncode == 0, result.stderr
    dump = json.loads(result.stdout)
    assert dump["status"] == "accepted"
    first, second = dump["interchanges"]
    assert first["delimiters"] == {
        "element": "*",
        "component": ">",
        "segment": "~",
        "repetition": None,
    }
    assert first["isa"][12] == "000000001"
    assert [s["control_number"] for s in first["groups"][0]["sets"]] == ["0001", "0002"]
    assert first["groups"][0]["sets"][0]["segments"][1] == ["W05", "N", "SO123", "PO9"]
    assert second["groups"][0]["functional_id"] == "SW"
    assert len(second["groups"][0]["sets"][0]["segments"]) == len(SHIPMENT_945) + 2


def test_a_005010_file_with_its_version_accepted_and_answered_in_005010(files):
    text = x12(ORDER_940, version="005010", standards="^").replace("*00401*", "*00501*", 1)
    path = files("order_5010.x12", text)
    refused = run("validate", path)
    assert refused.returncode == 2
    assert "GS08 version '005010' is not accepted" in refused.stdout
    result = run("validate", path, "--version", "005010")
    assert result.returncode == 0, result.stdout
    assert "group 1 (OW, 005010): accepted" in result.stdout
    answer = run("ack", path, "--version", "005010")
    assert answer.returncode == 0, answer.stderr
    assert answer.stdout[82:89] == "^*00501" and "*X*005010~" in answer.stdout
    assert validate(answer.stdout, rules=PartnerRules(versions=("005010",))).status == "accepted"
