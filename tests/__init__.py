"""mmhier's test suite (a package, so that ``tests.*`` imports resolve here even where MMSegmentation 1.2.2 installed its own top-level ``tests`` package)."""
