"""kubelet's hard eviction thresholds as kubelet merges its configuration (issue 24, item 11).

Facts (KubeletConfiguration reference; "Set Kubelet Parameters Via A Configuration File";
"Kubelet Configuration Directory Merging"; KEP-3983):
- evictionHard given with some signals sets the others to 0 (no memory eviction without
  memory.available), unless mergeDefaultEvictionSettings is true: then the signals not given
  keep their defaults (memory.available<100Mi).
- --config-dir: the *.conf files of the directory, in alphanumeric order, over the --config
  file; a map's keys are added or overwritten one by one, a later file winning.
- The file is YAML (or JSON): a flow mapping ``evictionHard: {...}`` is the same map.
- Command-line flags win over the files.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from helpers import FIXTURES

from oomutil import killers
from oomutil.checks import run_checks
from oomutil.posture import posture

V1 = FIXTURES / "x86_64-cgroup1-linux6.18"  # no swap
PID = 29535
HEAD = "apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\n"


def kubelet_tree(tmp_path: Path, args, files: dict) -> str:
    dest = tmp_path / "tree"
    shutil.copytree(V1, dest, symlinks=True)
    status = (V1 / f"proc/{PID}/status").read_text().replace("Name:\tpython3", "Name:\tkubelet")
    for rel, text in {f"proc/{PID}/comm": "kubelet\n", f"proc/{PID}/status": status,
                      f"proc/{PID}/cmdline": "".join(a + "\0" for a in ("/usr/bin/kubelet", *args)),
                      **files}.items():
        (dest / rel).parent.mkdir(parents=True, exist_ok=True)
        (dest / rel).write_text(text)
    return str(dest)


def kubelet(root: str):
    (k,) = [k for k in posture(root).userspace_killers if k.name == "kubelet"]
    return k


def oom003(root: str):
    return next((f for f in run_checks(posture(root)).findings if f.code == "OOM003"), None)


def test_merge_default_eviction_settings_keeps_the_memory_default(tmp_path):
    yaml = HEAD + "mergeDefaultEvictionSettings: true\nevictionHard:\n  nodefs.available: \"10%\"\n"
    root = kubelet_tree(tmp_path, ["--config=/var/lib/kubelet/config.yaml"], {"var/lib/kubelet/config.yaml": yaml})
    k = kubelet(root)
    assert k.settings == {"eviction-hard": "memory.available<100Mi,nodefs.available<10%"} and k.kills
    assert oom003(root) is None


def test_without_merge_the_other_signals_are_zero():
    yaml = HEAD + "mergeDefaultEvictionSettings: false\nevictionHard:\n  nodefs.available: 10%\n"
    assert killers.kubelet_settings([], yaml) == {"eviction-hard": "nodefs.available<10%"}


@pytest.mark.parametrize("line,expected", [
    ('evictionHard: {"memory.available": "200Mi", nodefs.available: 10%}\n',
     "memory.available<200Mi,nodefs.available<10%"),
    ("evictionHard: {nodefs.available: '10%',\n  imagefs.available: 15%}\n", "nodefs.available<10%,imagefs.available<15%"),
    ("evictionHard: {}\n", ""),
])
def test_flow_style_eviction_hard(line, expected):
    assert killers.kubelet_settings([], HEAD + line) == {"eviction-hard": expected}


def test_a_json_config():
    text = '{"kind": "KubeletConfiguration", "evictionHard": {"nodefs.available": "5%"}, "mergeDefaultEvictionSettings": true}'
    assert killers.kubelet_settings([], text) == {"eviction-hard": "memory.available<100Mi,nodefs.available<5%"}


def test_config_dir_drop_ins_merge_key_by_key_in_name_order(tmp_path):
    root = kubelet_tree(tmp_path, ["--config", "/var/lib/kubelet/config.yaml",
                                   "--config-dir=/etc/kubernetes/kubelet.conf.d"], {
        "var/lib/kubelet/config.yaml": HEAD + "evictionHard:\n  nodefs.available: 10%\n",
        "etc/kubernetes/kubelet.conf.d/20-memory.conf": HEAD + "evictionHard:\n  memory.available: 1Gi\n",
        "etc/kubernetes/kubelet.conf.d/10-memory.conf": HEAD + "evictionHard:\n  memory.available: 300Mi\n",
        "etc/kubernetes/kubelet.conf.d/30-ignored.yaml": HEAD + "evictionHard:\n  memory.available: 5Gi\n",
    })
    k = kubelet(root)
    assert k.settings == {"eviction-hard": "nodefs.available<10%,memory.available<1Gi"} and k.kills
    assert oom003(root) is None


def test_a_drop_in_can_turn_merging_on(tmp_path):
    root = kubelet_tree(tmp_path, ["--config=/var/lib/kubelet/config.yaml", "--config-dir", "/etc/kubernetes/kubelet.conf.d"], {
        "var/lib/kubelet/config.yaml": HEAD + "evictionHard:\n  nodefs.available: 10%\n",
        "etc/kubernetes/kubelet.conf.d/50-merge.conf": HEAD + "mergeDefaultEvictionSettings: true\n",
    })
    assert kubelet(root).settings == {"eviction-hard": "memory.available<100Mi,nodefs.available<10%"}


def test_the_flag_wins_over_the_files(tmp_path):
    root = kubelet_tree(tmp_path, ["--config=/var/lib/kubelet/config.yaml", "--eviction-hard=nodefs.available<5%"], {
        "var/lib/kubelet/config.yaml": HEAD + "evictionHard:\n  memory.available: 1Gi\n"})
    k = kubelet(root)
    assert k.settings == {"eviction-hard": "nodefs.available<5%"} and not k.kills
