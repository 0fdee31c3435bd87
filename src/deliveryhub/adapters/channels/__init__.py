"""Outgoing notification channels (e-mail, 알림톡, SMS, webhooks, console) behind one Notifier port."""
