"""The declared kernel that every service may use: value rules and calendar building.

It holds no infrastructure and imports no service: `parsing` (text, names, slugs,
dates, links: one set of rules for every API) and `calendar` (a meeting as an
iCalendar VEVENT, the same wherever a calendar is made).
"""
