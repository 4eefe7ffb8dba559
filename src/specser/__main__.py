"""`python -m specser` runs the same CLI as the `specser` script, for environments without the script on PATH."""

from specser.cli.main import app

if __name__ == "__main__":
    app(prog_name="specser")
