"""Write var/demo.env once: the demo's own SECRET_KEY and encryption key.

Kept on disk so that restarting the demo can still read the credentials it stored.
"""

import base64
import os
import secrets
from pathlib import Path

path = Path(__file__).resolve().parent.parent / "var" / "demo.env"
if not path.exists():
    path.parent.mkdir(exist_ok=True)
    key = base64.urlsafe_b64encode(os.urandom(32)).decode()
    path.write_text(
        f"SECRET_KEY={secrets.token_urlsafe(50)}\nFIELD_ENCRYPTION_KEYS={key}\nHASHWATCH_DEMO=1\n"
    )
    path.chmod(0o600)
print(path)
