"""The consent gate: decide, minimise, route, deliver or refuse."""
