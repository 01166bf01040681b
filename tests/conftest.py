"Shared pytest set-up: headless plotting and a small thread count, so notebooks run alike everywhere."
import os
os.environ.setdefault("MPLBACKEND", "Agg")
os.environ.setdefault("OMP_NUM_THREADS", "1")
