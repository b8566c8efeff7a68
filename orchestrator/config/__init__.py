"""Configuration: one immutable typed object, validated before anything runs.

files.py     find config.yaml and read it as YAML (cheap: what a switched-off tick needs), refusing
             before parsing what is too big, not UTF-8 or nested too deep
load.py      validate it, layer overrides.yaml, resolve secrets: `load_config` -> `Config`
model.py     the frozen dataclasses every job receives
reader.py, sections.py, places.py, backend_keys.py, outbound_rules.py, cron_fields.py
             the readers that collect every problem with its key
objectives.py  objectives/<repo key>.yaml, validated the same way (docs/objectives.md)
"""
