"""What the web layer is handed by the composition root: the store, settings, maps and scope."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import pandas as pd

from .accounts import Principal
from .catalog import Scope
from .config import Settings
from .dqr import ReviewCache
from .repository import Repository
from .suppression import CubeCache
from .views import Context, FrameCache, frame_cache

if TYPE_CHECKING:
    from .boundaries import Boundaries


@dataclass(frozen=True)
class Services:
    """Built once per app by create_app and passed to every callback module's register()."""

    repo: Repository
    settings: Settings
    # The access scope of the request being served (decided on the server, never by the browser).
    scope: Callable[[], Scope]
    tiles: pd.DataFrame
    boundaries: Boundaries | None = None
    district_boundaries: Boundaries | None = None
    # Who the current request acts for (None outside a signed-in request).
    principal: Callable[[], Principal | None] = lambda: None
    # The data-quality reviews of this app (/calidad), reused until the data changes.
    reviews: ReviewCache = field(default_factory=ReviewCache)
    # Disclosure decisions of restricted views, reused until the data changes.
    cubes: CubeCache = field(default_factory=CubeCache)
    # Evaluated frames of recent requests, reused until the data changes.
    frames: FrameCache = field(default_factory=frame_cache)

    def context(self) -> Context:
        """The view context of the current request."""
        principal = self.principal()
        restricted = principal is not None and (
            principal.restricted or principal.role in self.settings.restricted_roles
        )
        return Context(
            repo=self.repo,
            scope=self.scope(),
            today=self.settings.current_date(),
            small_count=self.settings.small_count,
            rules=self.settings.quality_rules(),
            suppress=self.settings.suppress_threshold if restricted else None,
            dqr=self.settings.dqr,
            cubes=self.cubes,
            frames=self.frames,
            usf_norm=self.settings.usf_norm,
            usf_norm_source=self.settings.usf_norm_source,
        )
