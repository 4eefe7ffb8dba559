"""Named recipe presets, as YAML files shipped with the package."""
