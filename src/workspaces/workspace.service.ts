import { UniqueConstraintViolationException } from '@mikro-orm/core';
import { Organization, Project, Wallet, Workspace } from '../../entities';
import { type Actor, type MemberActor, organizationScope, ownOrganization } from '../actor';
import { inTransaction } from '../db/transaction';
import type { Deps } from '../deps';
import { DomainError, MalformedInputError, UserErrorCode } from '../errors';
import { parseId } from '../ids';
import type { Period } from '../limits/periods';
import { type BudgetSetting, requireBudget, requireText } from '../validation';

/** Markup on model prices in basis points: 0 to 1000% (100000). */
export const MAX_MARKUP_BASIS_POINTS = 100_000;

function nameTaken(what: string): DomainError {
  return new DomainError(UserErrorCode.TAKEN, `A ${what} with this name already exists`, ['input', 'name']);
}

export interface WorkspaceCreateInput {
  name: string;
  /** The platform admin names the organization; a member's is their own. */
  organizationId?: string | null;
}

/** The organization a new workspace goes into: the admin names it, a member uses their own. */
function workspaceOrganization(actor: Actor, requested: string | null | undefined): string {
  if (actor.kind === 'PLATFORM_ADMIN') {
    if (!requested) throw new MalformedInputError('input.organizationId is required for the platform admin');
    return parseId('organization', requested, 'input.organizationId');
  }
  return ownOrganization(actor, requested);
}

/** Creates a workspace together with its wallet, which starts at zero. */
export async function createWorkspace({ em }: Pick<Deps, 'em'>, actor: Actor, input: WorkspaceCreateInput) {
  const organizationId = workspaceOrganization(actor, input.organizationId);
  const workspaceName = requireText(input.name, 'name');
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

export interface ProjectCreateInput {
  workspaceId: string;
  name: string;
  budget?: BudgetSetting<Period> | null;
}

export async function createProject({ em }: Pick<Deps, 'em'>, actor: MemberActor, input: ProjectCreateInput) {
  const { organizationId } = actor;
  const { workspaceId } = input;
  const projectName = requireText(input.name, 'name');
  const budget = requireBudget(input.budget, 'budget');
  try {
    return await inTransaction(em, async (tx) => {
      const workspace = await tx.findOne(Workspace, { id: workspaceId, organization: organizationId });
      if (!workspace) throw new DomainError(UserErrorCode.NOT_FOUND, 'No such workspace', ['input', 'workspaceId']);
      const project = tx.create(Project, {
        workspace,
        organization: organizationId,
        name: projectName,
        budget: budget?.amount ?? null,
        budgetPeriod: budget?.period ?? null,
      });
      await tx.flush();
      return project;
    });
  } catch (error) {
    if (error instanceof UniqueConstraintViolationException) throw nameTaken('project');
    throw error;
  }
}

export interface ProjectUpdateInput {
  projectId: string;
  name?: string | null;
  budget?: BudgetSetting<Period> | null;
}

/** Renames a project or sets its budget; what the input leaves out stays (see requireBudget). */
export async function updateProject({ em }: Pick<Deps, 'em'>, { organizationId }: MemberActor, input: ProjectUpdateInput) {
  const name = input.name == null ? undefined : requireText(input.name, 'name');
  const budget = requireBudget(input.budget, 'budget');
  try {
    return await inTransaction(em, async (tx) => {
      const project = await tx.findOne(Project, { id: input.projectId, organization: organizationId });
      if (!project) throw new DomainError(UserErrorCode.NOT_FOUND, 'No such project', ['input', 'projectId']);
      if (name !== undefined) project.name = name;
      if (budget !== undefined) {
        project.budget = budget?.amount ?? null;
        project.budgetPeriod = budget?.period ?? null;
      }
      await tx.flush();
      return project;
    });
  } catch (error) {
    if (error instanceof UniqueConstraintViolationException) throw nameTaken('project');
    throw error;
  }
}

export interface WorkspaceUpdateInput {
  workspaceId: string;
  name?: string | null;
  markupBasisPoints?: number | null;
}

/**
 * Renames a workspace or sets its markup on model prices; left-out (or null) fields stay. A member
 * changes a workspace of their organization, the platform admin any.
 */
export async function updateWorkspace({ em }: Pick<Deps, 'em'>, actor: Actor, input: WorkspaceUpdateInput) {
  const organizationId = organizationScope(actor);
  const name = input.name == null ? undefined : requireText(input.name, 'name');
  const markup = input.markupBasisPoints;
  if (markup != null && (!Number.isInteger(markup) || markup < 0 || markup > MAX_MARKUP_BASIS_POINTS)) {
    throw new DomainError(
      UserErrorCode.INVALID,
      `markupBasisPoints must be between 0 and ${MAX_MARKUP_BASIS_POINTS} (1000 is 10%)`,
      ['input', 'markupBasisPoints'],
    );
  }
  try {
    return await inTransaction(em, async (tx) => {
      const workspace = await tx.findOne(Workspace, { id: input.workspaceId, ...(organizationId !== null && { organization: organizationId }) });
      if (!workspace) throw new DomainError(UserErrorCode.NOT_FOUND, 'No such workspace', ['input', 'workspaceId']);
      if (name !== undefined) workspace.name = name;
      if (markup != null) workspace.markupBps = markup;
      await tx.flush();
      return workspace;
    });
  } catch (error) {
    if (error instanceof UniqueConstraintViolationException) throw nameTaken('workspace');
    throw error;
  }
}
