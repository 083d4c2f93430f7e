/**
 * The site and edge registry: every fact about hook sites, node ids and which weight joins which sites, read from
 * registry.json (the file the Python side reads too). See README.md here for the format and for what else changes
 * when a site or an edge kind is added.
 */
export { REGISTRY, registrySchema, type Registry, type SiteKindSpec, type WeightEdgeSpec } from './data';
export { checkDimension, dimension } from './dimension';
export {
  absTopKLocationOf, allSites, GLOBAL_SITE_KINDS, isSignedSite, isSiteName, LAYER_SITE_KINDS, parseSite, SITE_KINDS,
  siteKind, siteName, siteSpec, siteWidth, type LayerSiteKind, type ParsedSite, type SiteName,
} from './siteKinds';
export { NODE_ID_EXAMPLE, nodeId, nodeIdSchema, parseNodeId, siteNameSchema, tryParseNodeId, type NodeRef } from './nodeIds';
export {
  CIRCUIT_EDGE_KINDS, edgeKindOf, edgeLocation, isWeightEdge, pairEdgeKind, keyAt, QK_EDGE_KINDS, RESIDUAL_FINAL_KIND, RESIDUAL_SUBLAYERS,
  WEIGHT_EDGE_KINDS, weightEdgeAt, weightEdgeKind, type EdgeKind, type EdgeLocation, type WeightEdgeAt,
} from './edgeKinds';
