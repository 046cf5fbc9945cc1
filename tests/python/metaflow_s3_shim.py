"""A pytest plugin that makes metaflow's own S3 test suite (metaflow's
test/data/s3/test_s3.py) exercise hoist.S3: loaded with `-p` before the suite
is collected, it puts hoist's S3 class, its S3GetObject/S3PutObject and its
exception classes (which carry metaflow.S3's names) where the suite imports
them from, metaflow.plugins.datatools.s3. Used by scripts/metaflow-s3-suite."""
import metaflow.plugins.datatools.s3 as mf_s3

import hoist
import hoist.exceptions as hx
import hoist.s3 as hs3

REPLACED = {
    "S3": hoist.S3,
    "S3GetObject": hs3.S3GetObject,
    "S3PutObject": hs3.S3PutObject,
    "MetaflowS3AccessDenied": hx.MetaflowS3AccessDenied,
    "MetaflowS3NotFound": hx.MetaflowS3NotFound,
    "MetaflowS3URLException": hx.MetaflowS3URLException,
    "MetaflowS3InvalidObject": hx.MetaflowS3InvalidObject,
    "MetaflowS3Exception": hx.MetaflowS3Exception,
    "MetaflowS3InvalidRange": hx.MetaflowS3InvalidRange,
}
for name, obj in REPLACED.items():
    assert hasattr(mf_s3, name), name  # the suite imports these names from here
    setattr(mf_s3, name, obj)


def pytest_report_header(config):
    return "metaflow.plugins.datatools.s3.S3 is hoist.S3 (%s)" % hoist.__file__


def pytest_collection_modifyitems(items):
    # the suite must see hoist's class, not one it imported before the patch
    for item in items:
        mod = getattr(item, "module", None)
        if mod is not None and getattr(mod, "S3", hoist.S3) is not hoist.S3:
            raise RuntimeError("%s imported metaflow's S3 before the shim ran" % mod.__name__)
