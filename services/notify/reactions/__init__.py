"""Notify's reactions to other services' integration events.

`policy.NotifyPolicy` reads each message of the events and learning services and
calls the reaction it asks for: `convenings.ConveningReactions` (invitations,
updates, cancellations, reminders, place offers) and `learning.LearningReactions`
(new learning), both mixed into the application (`services.notify.application.Notify`)
on `decisions.NotifyDecisions` (its wiring, and how a decision is saved with the
tracking of the event that caused it).
"""
