"""期限日历: what falls due when, who is on duty, and the holidays and rules behind deadlines.

One widget per tab (``board``, ``roster``, ``holidays``), each loading its own data on the
worker and listening to the change hub itself; ``page.CalendarPage`` assembles them. How a day
looks is decided in ``looks`` without painting; ``grid`` only shows it.
"""

from desktop_app.ui.calendar.page import CalendarPage

__all__ = ["CalendarPage"]
