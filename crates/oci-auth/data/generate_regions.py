#!/usr/bin/env python3
"""Regenerates regions.json from the official OCI Python SDK's region table.

    pip install oci && python3 generate_regions.py > regions.json
"""
import json, sys
import oci
import oci.regions_definitions as r

json.dump({
    "source": f"oci {oci.__version__} oci/regions_definitions.py",
    "realms": r.REALMS,
    "region_realms": r.REGION_REALMS,
    "short_names": r.REGIONS_SHORT_NAMES,
}, sys.stdout, indent=1, sort_keys=True)
print()
