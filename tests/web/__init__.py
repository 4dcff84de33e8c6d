"""Web server and API tests."""
