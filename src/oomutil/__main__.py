"""python -m oomutil"""

from .cli import console

console()
