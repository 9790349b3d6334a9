from .documents import PortalDocument
from .images import PortalImage, PortalRendition

__all__ = ["PortalDocument", "PortalImage", "PortalRendition"]
