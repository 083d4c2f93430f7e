/**
 * Hook sites and node ids. The facts live in the registry (./registry, read from registry.json); this module keeps
 * the import path that the forward passes, the worker and the tools have always used.
 */
export {
  absTopKLocationOf, allSites, isSignedSite, isSiteName, LAYER_SITE_KINDS, nodeId, parseNodeId, parseSite, siteName,
  siteWidth, tryParseNodeId, type LayerSiteKind, type NodeRef, type ParsedSite, type SiteName,
} from './registry';
