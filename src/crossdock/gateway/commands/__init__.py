"""CLI sub-commands, one module each; every module has ``register(subparsers)``.

A command module imports its heavy dependencies inside its handler, so ``crossdock validate``
never pays for the web stack.
"""
