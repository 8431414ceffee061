"""The application on top of the library: the `tfrnn` command (cli.py)
and the quick start's main job (demo.py)."""
