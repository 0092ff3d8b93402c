"""What bounce senders and subjects look like, vendor by vendor: data, not logic.

Every entry names where it was seen; "corpus" means a message in ``bench/corpus/classify/``
(``SOURCES.md`` there lists the files). Subjects are matched at the start of the subject after
NFC, case-insensitively, so a person's "Re:"/"Fwd:" of a bounce never matches.
"""

from __future__ import annotations

import re

# Local parts of system senders of bounces.
DAEMON_LOCAL_PARTS = frozenset(
    {
        "mailer-daemon",  # Sendmail, Postfix, Exim, Gmail, Yahoo, qmail (RFC 5321 §4.5.5 habit)
        "mailerdaemon",
        "mail-daemon",
        "postmaster",  # Exchange, Lotus Domino, MDaemon, Office 365, mail.ru (RFC 5321 §4.5.1)
        "post_master",  # Apache James / Verizon vtext gateway (corpus: lhost-apachejames)
        # "Mail Delivery System <Mail.Delivery.System@…>" (corpus: lhost-x3)
        "mail.delivery.system",
        "double-bounce",  # Postfix's double-bounce sender
    }
)
# Exchange sends NDRs from "MicrosoftExchange<32 hex digits>@domain".
EXCHANGE_SYSTEM = re.compile(r"microsoftexchange[0-9a-f]{32}")
# Display names that only bounce senders use, for a From with no usable address
# ("MAILER-DAEMON <>": DragonFly Mail Agent, McAfee's "<>"; corpus: lhost-dragonfly, lhost-mcafee).
DAEMON_NAMES = re.compile(
    r"^\s*(?:mailer[-\s]?daemon|mail\s+delivery\s+(?:sub)?system|postmaster)\s*$", re.IGNORECASE
)

# Bounce subjects, one alternative per vendor phrase.
_BOUNCE_SUBJECTS = (
    r"undelivered\s+mail",  # Postfix "Undelivered Mail Returned to Sender"
    # Exchange/Office 365 "Undeliverable: …", apollo.lv "Undeliverable mail"
    r"undeliver(?:able|ed)",
    r"non[-\s]?deliver",  # "Nondeliverable mail", "Non-delivery report"
    r"mail\s+delivery\s+fail",  # Exim "Mail delivery failed: returning message to sender"
    r"mail\s+delivery\s+status",  # Zoho "Mail Delivery Status Notification"
    r"(?:mail\s+)?delivery\s+status\s+notification",  # Gmail, Exchange, Lotus Domino
    r"delivery\s+status\b",  # McAfee "Delivery Status"
    r"delivery\s+notification",  # Exchange 5.5/IMS "Delivery Notification: Delivery has failed"
    # Lotus/Domino "DELIVERY FAILURE: …", Symantec "Delivery failure notification"
    r"delivery\s+fail",
    r"permanent\s+delivery\s+failure",  # MDaemon
    r"delivery\s+has\s+failed",
    r"delivery\s+delayed|delayed\s+mail",  # Exim/Postfix warnings
    r"warning:\s+(?:message\s|could\s+not\s+deliver)",  # Exim "Warning: message … delayed"
    r"warning:\s.*user\s+unknown",  # MDaemon "Warning: … User unknown!"
    r"failure\s+notice",  # qmail
    # Sendmail "Returned mail: see transcript for details", "Returned Mail - Error During Delivery"
    r"returned\s+mail",
    r"mail\s+system\s+error",  # Mirapoint "Mail System Error - Returned Mail"
    r"message\s+not\s+delivered",
    r"message\s+delivery\s+(?:has\s+)?fail",
    r"could\s+not\s+(?:be\s+)?deliver",  # "Could not deliver message"
    r"mail\s+could\s+not\s+be\s+delivered",
    r"delivery\s+report",  # MessageLabs, Mimecast
    r"notice\s+of\s+failed\s+delivery",
    r"unzustellbar|nicht\s+zustellbar",  # German Exchange / GMX
    r"non\s+remis",  # French Exchange
    r"non\s+recapitabile",  # Italian Exchange
    r"no\s+se\s+puede\s+entregar",  # Spanish Exchange
    r"não\s+(?:é\s+possível\s+)?entreg",  # Portuguese Exchange
    r"onbestelbaar",  # Dutch Exchange
    r"kan\s+ikke\s+leveres",  # Danish/Norwegian Exchange
    r"olevererbart|ej\s+levererbart",  # Swedish Exchange (corpus: bounce_email tt_bounce_24)
    r"ваше\s+сообщение\s+не\s+доставлено",  # Russian mailer-daemons (mail.ru, Yandex)
    r"сообщение\s+не\s+доставлено|не\s+доставлено",
    r"メールエラー通知",  # KDDI au (corpus: lhost-kddi), "mail error notice"
    r"mail\s+error",
    r"\*\*\s*message\s+you\s+sent\s+blocked",  # corpus: php-bounce-handler 32, a filter's refusal
)
BOUNCE_SUBJECT = re.compile(r"^\s*(?:" + "|".join(_BOUNCE_SUBJECTS) + ")", re.IGNORECASE)

# Subjects (anywhere) that say the report is only a delay warning.
DELAY_SUBJECT = re.compile(
    r"delay|still\s+being\s+retried|will\s+be\s+retried|warning:", re.IGNORECASE
)
