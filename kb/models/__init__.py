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
