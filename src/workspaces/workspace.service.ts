import { UniqueConstraintViolationException } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import { Organization, Project, Wallet, Workspace } from '../../entities';
import { inTransaction } from '../db/transaction';
import { DomainError, UserErrorCode } from '../errors';
import { requireText } from '../validation';

function nameTaken(what: string): DomainError {
  return new DomainError(UserErrorCode.TAKEN, `A ${what} with this name already exists`, ['input', 'name']);
}

/** Creates a workspace together with its wallet, which starts at zero. */
export async function createWorkspace(em: EntityManager, organizationId: string, name: string) {
  const workspaceName = requireText(name, 'name');
  try {
    return await inTransaction(em, async (tx) => {
      const organization = await tx.findOne(Organization, organizationId);
      if (!organization) throw new DomainError(UserErrorCode.NOT_FOUND, 'No such organization', ['input', 'organizationId']);
      const workspace = tx.create(Workspace, { organization, name: workspaceName });
      const wallet = tx.create(Wallet, { workspace, organization });
      await tx.flush();
      return { workspace, wallet };
    });
  } catch (error) {
    if (error instanceof UniqueConstraintViolationException) throw nameTaken('workspace');
    throw error;
  }
}

export async function createProject(em: EntityManager, organizationId: string, workspaceId: string, name: string) {
  const projectName = requireText(name, 'name');
  try {
    return await inTransaction(em, async (tx) => {
      const workspace = await tx.findOne(Workspace, { id: workspaceId, organization: organizationId });
      if (!workspace) throw new DomainError(UserErrorCode.NOT_FOUND, 'No such workspace', ['input', 'workspaceId']);
      const project = tx.create(Project, { workspace, organization: organizationId, name: projectName });
      await tx.flush();
      return project;
    });
  } catch (error) {
    if (error instanceof UniqueConstraintViolationException) throw nameTaken('project');
    throw error;
  }
}
