__version__ = "0.1.0"

import warnings as _warnings
# fastai's layers call `torch.jit.script`, which torch ≥ 2.10 deprecates; the warning is not ours to fix and
# would appear in every notebook and command that imports fastai.
_warnings.filterwarnings("ignore", message=r"`torch\.jit\.script` is deprecated", category=FutureWarning)
