import { Field, ID, InputType, ObjectType } from 'type-graphql';
import { MutationPayload, NodeInterface } from './common.types';

@ObjectType('Workspace', { implements: NodeInterface, description: 'A workspace of an organization, with one shared wallet' })
export class WorkspaceType extends NodeInterface {
  @Field()
  name!: string;

  @Field()
  createdAt!: Date;
}

@ObjectType('Project', { implements: NodeInterface })
export class ProjectType extends NodeInterface {
  @Field()
  name!: string;

  @Field()
  createdAt!: Date;
}

@InputType()
export class WorkspaceCreateInput {
  @Field()
  name!: string;

  @Field(() => ID, { nullable: true, description: "Required for the platform admin; a member's own organization otherwise" })
  organizationId?: string | null;
}

@ObjectType()
export class WorkspaceCreatePayload extends MutationPayload {
  @Field(() => WorkspaceType, { nullable: true })
  workspace?: WorkspaceType;
}

@InputType()
export class ProjectCreateInput {
  @Field(() => ID)
  workspaceId!: string;

  @Field()
  name!: string;
}

@ObjectType()
export class ProjectCreatePayload extends MutationPayload {
  @Field(() => ProjectType, { nullable: true })
  project?: ProjectType;
}
