/**
 * Who makes the manifest (profiles/Device-MadoCreator.fsh): this bridge as
 * the MadoCreator Device (type mado-creator, manufacturer, its name and
 * version, owner → the organization) and the configured
 * MadoCreatorOrganization (name, identifier when the site has one). Pure.
 */
import { MADO_DEVICE_TYPE_SYSTEM, MADO_PROFILE } from './canonicals.js';
import type { ManifestCreator } from './options.js';
import type { Device, Organization } from './r4-types.js';

export function creatorDevice(creator: ManifestCreator, ownerReference: string): Device {
  return {
    resourceType: 'Device',
    meta: { profile: [MADO_PROFILE.creator] },
    status: 'active',
    manufacturer: creator.manufacturer,
    deviceName: [{ name: creator.softwareName, type: 'manufacturer-name' }],
    type: { coding: [{ system: MADO_DEVICE_TYPE_SYSTEM, code: 'mado-creator', display: 'MADO Creator' }] },
    ...(creator.softwareVersion ? { version: [{ value: creator.softwareVersion }] } : {}),
    owner: { reference: ownerReference },
  };
}

export function creatorOrganization(creator: ManifestCreator): Organization {
  return {
    resourceType: 'Organization',
    meta: { profile: [MADO_PROFILE.creatorOrganization] },
    ...(creator.organizationIdentifier ? { identifier: [{ ...creator.organizationIdentifier }] } : {}),
    active: true,
    name: creator.organizationName,
  };
}
