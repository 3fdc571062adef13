import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.fixture(scope="session")
def dfdc_faces():
    from candor_sbi import data

    root = os.path.join(data.DATA_DIR, "train-faces-dfdc")
    if not os.path.exists(os.path.join(root, "landmarks.tsv")):
        pytest.skip(f"no DFDC crops at {root} (set CANDOR_TEST_DATA)")
    return data.load_dfdc(root)
