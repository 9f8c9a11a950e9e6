"""Tests of the local WeCom emulator (sandbox/)."""
