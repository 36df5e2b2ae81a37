"""Shipping files to nodes by content (profiler/cluster/shipping.py) and reading a node's answer
(profiler/cluster/client.py): no Ray needed."""

from __future__ import annotations

import hashlib
import io
import tarfile
from pathlib import Path

import pytest

from profiler.cluster.client import decode_answer, resolve_address, unreachable
from profiler.cluster.node import version_mismatch
from profiler.cluster.shipping import Shipment, pack_path, pack_source, unpack
from profiler.errors import InputError


def test_a_file_ships_by_its_hash_and_unpacks_once(tmp_path: Path) -> None:
    f = tmp_path / "m.onnx"
    f.write_bytes(b"graph bytes")
    s = pack_path(f)
    assert s.sha256 == hashlib.sha256(b"graph bytes").hexdigest() and s.name == "m.onnx"
    root = tmp_path / "cache"
    first = unpack(s, root)
    assert first == root / s.sha256 / "m.onnx" and first.read_bytes() == b"graph bytes"
    first.write_bytes(b"graph bytes")  # a second task on the node reuses the folder
    assert unpack(s, root) == first


def test_corrupted_bytes_are_refused(tmp_path: Path) -> None:
    s = Shipment(hashlib.sha256(b"a").hexdigest(), "m.onnx", False, b"b")
    with pytest.raises(InputError, match="do not match their SHA-256"):
        unpack(s, tmp_path)


@pytest.mark.parametrize("name", ["../escape.onnx", "/etc/passwd", ".."])
def test_a_shipment_name_cannot_leave_its_folder(tmp_path: Path, name: str) -> None:
    s = Shipment(hashlib.sha256(b"x").hexdigest(), name, False, b"x")
    with pytest.raises(InputError, match="plain file name"):
        unpack(s, tmp_path / "cache")
    assert not (tmp_path / "escape.onnx").exists()


def test_a_folder_tar_with_a_path_out_is_refused(tmp_path: Path) -> None:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        info = tarfile.TarInfo("../../outside.py")
        info.size = 4
        tar.addfile(info, io.BytesIO(b"boom"))
        link = tarfile.TarInfo("config.json")
        link.type, link.linkname = tarfile.SYMTYPE, "/etc/passwd"
        tar.addfile(link)
    data = buf.getvalue()
    s = Shipment(hashlib.sha256(data).hexdigest(), "hf", True, data)
    with pytest.raises(tarfile.TarError):
        unpack(s, tmp_path / "cache")
    assert not list(tmp_path.rglob("outside.py"))


def test_a_hugging_face_folder_ships_config_and_code_not_weights(tmp_path: Path) -> None:
    folder = tmp_path / "tiny-llama"
    folder.mkdir()
    (folder / "config.json").write_text('{"model_type": "llama"}')
    (folder / "modeling_x.py").write_text("x = 1\n")
    (folder / "model.safetensors").write_bytes(b"\0" * 1000)
    (folder / "link.json").symlink_to("/etc/hostname")
    shipped, suffix = pack_source(str(folder / "config.json"))
    assert shipped is not None and shipped.is_folder and suffix == "/config.json"
    out = unpack(shipped, tmp_path / "cache")
    assert sorted(p.name for p in out.iterdir()) == ["config.json", "modeling_x.py"]
    # the same folder always has the same hash (stable tar metadata)
    assert pack_source(str(folder / "config.json"))[0].sha256 == shipped.sha256  # type: ignore[union-attr]


def test_a_demo_ships_nothing_and_a_factory_keeps_its_callable(tmp_path: Path) -> None:
    assert pack_source("demo:digits-cnn") == (None, "")
    f = tmp_path / "net.py"
    f.write_text("def build():\n    pass\n")
    shipped, suffix = pack_source(f"{f}:build")
    assert shipped is not None and shipped.name == "net.py" and suffix == ":build"


def test_the_answer_must_be_json_text() -> None:
    assert decode_answer('{"result": {}}') == {"result": {}}
    with pytest.raises(ValueError, match="not JSON text"):
        decode_answer({"result": {}})  # an object would have been unpickled: refused
    with pytest.raises(ValueError, match="not a result"):
        decode_answer("[1, 2]")


def test_addresses_and_versions(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("RAY_ADDRESS", raising=False)
    with pytest.raises(InputError, match="no cluster address"):
        resolve_address("")
    monkeypatch.setenv("RAY_ADDRESS", "ray://head:10001")
    assert resolve_address(None) == "ray://head:10001"
    assert unreachable("local") is None and unreachable("auto") is None
    assert "not a port" in (unreachable("host:http") or "")
    assert version_mismatch({"ray": "2.60.0", "tradeoff": "0.1.0"}, {"ray": "2.61.0", "tradeoff": "0.1.0"}) == (
        "version mismatch: the node runs ray 2.61.0, this machine 2.60.0"
    )
    assert version_mismatch({"ray": "2.60.0"}, {"ray": "2.60.0", "torch": "2.12"}) is None


def test_without_ray_the_error_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    from profiler.cluster.client import import_ray

    monkeypatch.setitem(sys.modules, "ray", None)  # import ray -> ImportError
    with pytest.raises(InputError, match=r'Ray is not installed: pip install "tradeoff-studio\[cluster\]"'):
        import_ray()


def test_accelerator_needs_a_cluster() -> None:
    from tests.cluster.conftest import run_cli

    done = run_cli("sweep", "demo:mlp", "--accelerator", "L4", timeout=120)
    assert done.returncode == 2
    assert done.stderr.strip() == "error: --accelerator: chooses cluster nodes: give --cluster ADDRESS as well"
