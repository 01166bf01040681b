"Shared pytest set-up: headless plotting and a small thread count, so notebooks run alike everywhere."
import os
os.environ.setdefault("MPLBACKEND", "Agg")
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("SPECTRAL_ALIGN_DOWNLOAD", "0")   # tests never download CIFAR-10 (163 MiB), even with a network
