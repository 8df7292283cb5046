"""``python -m servicecircle``: the ``servicecircle`` command, for a machine where the script is not on PATH."""

from .cli import console_main

if __name__ == "__main__":
    console_main()
