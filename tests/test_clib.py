import platform
import subprocess
import sys

import pytest

from mhgraph.clib import c_function

# Every process started while mhgraph.resolve is imported and a run folder is swapped in twice
# (the second time over the first run: the atomic exchange), seen by an audit hook.
STARTED_PROCESSES = """
import sys, tempfile, pathlib
started = []
sys.addaudithook(lambda event, args: started.append(event) if event in ("subprocess.Popen", "os.posix_spawn",
                                                                      "os.exec", "os.fork") else None)
import mhgraph.resolve
from mhgraph.resolve import pipeline
from mhgraph.run_folder import RunFolder
out = pathlib.Path(tempfile.mkdtemp()) / "run"
for _ in range(2):
    with RunFolder(out) as folder:
        (folder.work / "run_manifest.json").write_text("{}")
        folder.commit()
pipeline.give_back_freed_memory()
print(pipeline._MALLOC_TRIM is not None, started)
"""


def test_the_c_library_is_found_without_starting_a_process():
    done = subprocess.run([sys.executable, "-c", STARTED_PROCESSES], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    found, started = done.stdout.split(maxsplit=1)
    assert started.strip() == "[]"
    assert found == str(platform.libc_ver()[0] == "glibc")  # glibc's malloc_trim, where there is glibc


def test_a_function_the_c_library_lacks_is_none_and_one_it_has_can_be_called():
    assert c_function("malloc_trim_of_no_c_library") is None
    assert c_function("no_such_function", use_errno=True) is None
    if platform.system() == "Windows":
        pytest.skip("no dlopen(NULL)")
    strlen = c_function("strlen")
    assert strlen(b"mhgraph") == 7
