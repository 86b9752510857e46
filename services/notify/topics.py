"""Where notify's aggregates used to live, so that their stored events keep loading.

Until the domain became a package, every aggregate class was in the module
`services.notify.domain`; events stored then name `services.notify.domain:<class>`
(for example `services.notify.domain:Notification.Created`).
"""

from services.common.topics import keep_old_topics
from services.notify.domain.convening import TrackedConvening
from services.notify.domain.learning import LearningNotice
from services.notify.domain.newsletter import Newsletter
from services.notify.domain.notification import Notification
from services.notify.domain.preferences import MemberPreferences

keep_old_topics(
    "services.notify.domain",
    MemberPreferences,
    Notification,
    TrackedConvening,
    LearningNotice,
    Newsletter,
)
