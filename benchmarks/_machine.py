"""What every benchmark prints about the machine it ran on (imported by the scripts in this folder)."""
import platform


def cpu_name() -> str:
    "The CPU's model name (from /proc/cpuinfo on Linux), else what `platform` knows."
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"): return line.split(":", 1)[1].strip()
    except OSError: pass
    return platform.processor() or platform.machine()
