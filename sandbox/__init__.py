"""Local WeCom emulator: an HTTP server speaking the real WeCom protocol for tests and demos."""

from sandbox.client import SandboxClient, SandboxError
from sandbox.server import EmulatorServer, create_emulator_app, serve
from sandbox.settings import EmulatorSettings
from sandbox.wxcrypto import crypto_vector_check

__all__ = [
    "EmulatorServer",
    "EmulatorSettings",
    "SandboxClient",
    "SandboxError",
    "create_emulator_app",
    "crypto_vector_check",
    "serve",
]
