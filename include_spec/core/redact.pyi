# Secrets out of URLs and text (lightnvr/core/redact.py): the one way to show or log a URL.
MASK: str                                             # what a secret value becomes
SECRET_WORDS: tuple[str, ...]                         # a pair named "...<word>" is a secret
USER_WORDS: tuple[str, ...]                           # account-naming pairs (hidden from viewers)

def redact_url(url: str, keep_user: bool = True) -> str: ...   # keep_user False: viewers
def redact_text(text: str, keep_user: bool = True) -> str: ...  # URLs, password= pairs; idempotent
def redact_text_pairs(text: str) -> str: ...          # only the pair rules
