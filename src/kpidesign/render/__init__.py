"""Showing results: terminal tables (:mod:`.table`, :mod:`.validate`) and the files and
streams of ``--format``/``--out`` (:mod:`.files`)."""
