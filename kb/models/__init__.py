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
from .versions import ProductSheetVersion

__all__ = [
    "DownloadEvent",
    "ItemAttachment",
    "ItemKey",
    "LibraryIndexPage",
    "MarketingAssetPage",
    "PortalHomePage",
    "PortalItemPage",
    "PortalItemTag",
    "Product",
    "ProductSheetPage",
    "ProductSheetVersion",
    "TrainingGuidePage",
]
