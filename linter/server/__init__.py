"""``isolint server``: a Language Server Protocol server over the in-process engine (pygls)."""
