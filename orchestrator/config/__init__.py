"""Configuration: one immutable typed object, validated before anything runs.

files.py     find config.yaml and read it as YAML (cheap: what a switched-off tick needs)
load.py      validate it, layer overrides.yaml, resolve secrets: `load_config` -> `Config`
model.py     the frozen dataclasses every job receives
reader.py, sections.py, backends.py   the readers that collect every problem with its key
"""
