from ..cobranding.models import CobrandRender
from .documents import PortalDocument
from .images import PortalImage, PortalRendition
from .pages import (
    ItemAttachment,
    LibraryIndexPage,
    MarketingAssetPage,
    PortalHomePage,
    PortalItemPage,
    PortalItemTag,
    ProductSheetPage,
    TrainingGuidePage,
)
from .snippets import DownloadEvent, ItemKey, Product

__all__ = [
    "CobrandRender",
    "DownloadEvent",
    "ItemAttachment",
    "ItemKey",
    "LibraryIndexPage",
    "MarketingAssetPage",
    "PortalDocument",
    "PortalHomePage",
    "PortalImage",
    "PortalItemPage",
    "PortalItemTag",
    "PortalRendition",
    "Product",
    "ProductSheetPage",
    "TrainingGuidePage",
]
