"""Work around CPython gh-106905 for the API fuzz run (.ci/fuzz-api).

On some CPython releases (3.11.7 here), ast.parse can raise SystemError("AST constructor recursion
depth mismatch ...") for valid source. Hypothesis calls ast.parse to describe lambdas and only
handles SyntaxError, so the error aborted a schemathesis operation. Raising SyntaxError instead
makes hypothesis fall back to describing the lambda as "<unknown>"; nothing else changes.
"""

import ast
import sys

_original_parse = ast.parse


def _parse(*args, **kwargs):
    try:
        return _original_parse(*args, **kwargs)
    except SystemError as error:
        if "recursion depth mismatch" not in str(error):
            raise
        print(f"fuzz_ast_workaround: {error} (CPython gh-106905), read as SyntaxError", file=sys.stderr)
        raise SyntaxError(str(error)) from error


ast.parse = _parse
