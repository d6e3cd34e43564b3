"""The ``openlive`` command line."""
