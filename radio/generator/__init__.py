"""The generator: the pipeline (seeds → model → composer → performer → renderer →
mixer) driven one segment at a time, the style mix, the anchors and their cache, the
votes' bias, the loop that runs it in a process of its own, and that process's
supervisor on the server's side.
"""
