"""Files other users can read: what tfrnn stages in a temporary file or
directory (mkstemp: 0600, mkdtemp: 0700) gets the modes an ordinary
open() or makedirs() would have given it (0644 / 0755 under umask 022)
before it is renamed into place, so a TF Serving process running as
another user can read exports, configs and models."""

import os
import threading

_lock = threading.Lock()


def _umask():
    with _lock:  # os.umask can only be read by setting it
        mask = os.umask(0o022)
        os.umask(mask)
    return mask


def share(path):
    """Gives path (a file, or a directory and everything in it) the modes
    the process's umask gives new files (0666 & ~umask) and directories
    (0777 & ~umask)."""
    mask = _umask()
    file_mode, dir_mode = 0o666 & ~mask, 0o777 & ~mask
    if not os.path.isdir(path):
        os.chmod(path, file_mode)
        return
    os.chmod(path, dir_mode)
    for root, dirs, files in os.walk(path):
        for name in dirs:
            os.chmod(os.path.join(root, name), dir_mode)
        for name in files:
            os.chmod(os.path.join(root, name), file_mode)
