"""`maestro demo ...`: example data loaded through the public RPCs.

`asfi.py` loads the Apache Incubator projects (`maestro demo import-asfi`),
`synthetic.py` generates synthetic projects from a documented ground truth
(`maestro demo seed`); `calls.py` is the client both use, `commands.py` the
command line. The loaders are imported from here.
"""

from maestro_grpc.demo.asfi import ImportReport, add_months, import_asfi
from maestro_grpc.demo.synthetic import SeededProject, SeedReport, seed, truth

__all__ = [
    "ImportReport",
    "SeedReport",
    "SeededProject",
    "add_months",
    "import_asfi",
    "seed",
    "truth",
]
