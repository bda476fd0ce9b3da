"""One unit per clinical rule of RULES.md (or per small family): see README.md and `registry`."""
