"""A test-only app loaded only by the ``portal_worker`` subprocesses of tests/test_workers.py
(settings ``tests.worker_settings``): two periodic jobs whose runs leave lines in a folder."""
